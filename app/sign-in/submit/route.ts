// The sign-in form's POST: Auth.js's credentials sign-in, throttled; a failure goes back to the sign-in page.
import { attemptSignIn, readSignInForm, refuseSignIn } from "@/lib/auth/sign-in-form.ts";
import { redirectTo } from "@/lib/http/responses.ts";

export async function POST(request: Request) {
  const form = await readSignInForm(request);
  if (form instanceof Response) return form;
  const failure = await attemptSignIn(form);
  return failure === null ? redirectTo(form.returnTo, 303) : await refuseSignIn(form, failure);
}
