/**
 * Process-wide helpers shared by every capability: the DJL start-up settings (offline, no telemetry) and unit
 * parsing.
 */
package org.nestlm.util;
