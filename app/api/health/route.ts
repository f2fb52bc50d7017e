// Liveness for load balancers: the process is up and serving. Touches nothing else.
export function GET() {
  return Response.json({ status: "ok" }, { headers: { "Cache-Control": "no-store" } });
}
