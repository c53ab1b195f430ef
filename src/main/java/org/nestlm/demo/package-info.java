/**
 * The end-to-end demo: every stage from data to report, the three baselines, and the acceptance checks.
 */
package org.nestlm.demo;
