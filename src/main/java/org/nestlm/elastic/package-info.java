/**
 * Making a model elastic on DJL: importance rankings, the permutation to prefixes, the router and its masks, and
 * elastic distillation, which writes the elastic.json that {@link org.nestlm.sizes} reads (docs/METHOD.md).
 */
package org.nestlm.elastic;
