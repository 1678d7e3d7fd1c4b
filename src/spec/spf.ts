// SPF lookup accounting (RFC 7208 section 4.6.4): these mechanisms and modifiers each cost
// one DNS lookup; beyond 10 a receiver returns permerror and the mail fails SPF.
const LOOKUP_TERMS = /^[+?~-]?(include|a|mx|ptr|exists|redirect)([:/=]|$)/i;

export function countSpfLookups(terms: string[]): number {
  return terms.filter((t) => LOOKUP_TERMS.test(t.trim())).length;
}
