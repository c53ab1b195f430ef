/**
 * The Nemotron-H model on DJL in fp32 with gradients, and its description: config.json, per-layer sizes, parameter
 * count and elastic masks (docs/ARCHITECTURE.md).
 */
package org.nestlm.model;
