/**
 * Cutting a nested sub-model out of an elastic checkpoint as a standalone Nemotron-H checkpoint (docs/METHOD.md
 * §9).
 */
package org.nestlm.slice;
