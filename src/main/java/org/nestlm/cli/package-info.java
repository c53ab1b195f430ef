/**
 * The {@code nestlm} command line: one picocli command per class, turning arguments into calls of the capability
 * packages.
 */
package org.nestlm.cli;
