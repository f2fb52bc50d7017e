import { signOut } from "@/lib/auth/auth.ts";
import { ROUTES } from "@/lib/routes.ts";
import type { TenantUser } from "@/lib/users/user-store.ts";

async function signOutAction() {
  "use server";
  await signOut({ redirectTo: ROUTES.signIn });
}

export function AppHeader({ user }: { user: TenantUser }) {
  return (
    <header className="app-header">
      <a href={ROUTES.settings} className="brand-link">
        CRM
      </a>
      <span className="workspace" aria-label="Workspace">
        {user.tenantName}
      </span>
      <div className="who">
        <span>
          {user.name} <span className="role">({user.role})</span>
        </span>
        <form action={signOutAction}>
          <button type="submit" className="button button-quiet">
            Sign out
          </button>
        </form>
      </div>
    </header>
  );
}
