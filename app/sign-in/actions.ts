"use server";

import { AuthError } from "next-auth";
import { redirect } from "next/navigation";
import { signIn } from "@/lib/auth/auth.ts";
import { safeReturnTo } from "@/lib/auth/session.ts";

export async function signInAction(formData: FormData) {
  const returnTo = safeReturnTo(formData.get("callbackUrl"));
  try {
    await signIn("credentials", {
      email: String(formData.get("email") ?? ""),
      password: String(formData.get("password") ?? ""),
      redirectTo: returnTo,
    });
  } catch (error) {
    // signIn redirects by throwing; only Auth.js's own failures are ours to handle.
    if (error instanceof AuthError) {
      redirect(`/sign-in?${new URLSearchParams({ error: "invalid", callbackUrl: returnTo })}`);
    }
    throw error;
  }
}
