// Auth.js endpoints (session, CSRF token, credentials callback, sign-out).
import { handlers } from "@/lib/auth/auth.ts";

export const { GET, POST } = handlers;
