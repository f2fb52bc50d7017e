// The front door: signed-in users go to their integrations, everyone else to sign-in.
import { redirect } from "next/navigation";

import { currentUser } from "@/lib/auth/session.ts";
import { ROUTES } from "@/lib/routes.ts";

export default async function Home() {
  redirect((await currentUser()) ? ROUTES.settings : ROUTES.signIn);
}
