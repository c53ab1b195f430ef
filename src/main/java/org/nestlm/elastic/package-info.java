/**
 * The nested-size method: importance rankings, permutation to prefixes, the search space, the router, elastic
 * distillation, elastic.json, and resolving a budget or limits to a sub-model (docs/METHOD.md).
 */
package org.nestlm.elastic;
