import { APP_URL } from "./env.ts";

/**
 * The sign-in form's POST as a browser on our page sends it, from `address` (the e2e server trusts
 * one proxy, which the specs play by writing the X-Forwarded-For entry it would append). The
 * answer's body is read; its status and headers are the caller's.
 */
export async function postSignIn(
  email: string,
  password: string,
  address: string,
  options: { baseUrl?: string; callbackUrl?: string } = {},
): Promise<Response> {
  const baseUrl = options.baseUrl ?? APP_URL;
  const answer = await fetch(`${baseUrl}/sign-in/submit`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "Sec-Fetch-Site": "same-origin",
      Origin: baseUrl,
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Forwarded-For": address,
    },
    body: new URLSearchParams({
      email,
      password,
      ...(options.callbackUrl ? { callbackUrl: options.callbackUrl } : {}),
    }),
  });
  await answer.arrayBuffer();
  return answer;
}
