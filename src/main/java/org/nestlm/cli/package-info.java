/**
 * The {@code nestlm} command line: one picocli command per class, turning arguments into the settings records of the
 * capability packages and calling their stages; nothing outside this package refers to it.
 */
package org.nestlm.cli;
