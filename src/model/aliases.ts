// Follows alias chains to the addresses that finally receive a copy. The spec rules have
// already rejected loops and dangling targets, so this only has to expand and de-duplicate
// (a person reached twice through two groups gets one copy, as Postfix does). The walk is the
// spec layer's iterative one: no recursion, so no depth of chain can overflow the stack, and
// each alias is expanded once, after the aliases it points to.
export { aliasExpansions, expandAliases } from "../spec/aliasGraph.ts";
