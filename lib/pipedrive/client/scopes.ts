// Pipedrive scopes: which the app needs, which a grant lacks, and what to call them for people.
// A ":full" scope includes its ":read" one.

export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  const have = new Set(granted.map((scope) => scope.trim()).filter(Boolean));
  return required.filter((scope) => {
    if (have.has(scope)) return false;
    const [area, level] = scope.split(":");
    return !(level === "read" && have.has(`${area}:full`));
  });
}

const plain: Record<string, string> = {
  base: "see who is connected, in which company",
  "contacts:read": "read contacts (people and organisations)",
  "contacts:full": "read and change contacts",
  "search:read": "search",
  "deals:read": "read deals",
  "users:read": "read users",
};

/** "read contacts (people and organisations)", for a scope name; the name itself if unknown. */
export function scopeInWords(scope: string): string {
  return plain[scope] ?? scope;
}
