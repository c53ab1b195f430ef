/**
 * The {@code nestlm bench} commands: timed training steps and decode throughput against the measured memory
 * bandwidth.
 */
package org.nestlm.cli.bench;
