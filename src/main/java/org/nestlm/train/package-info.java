/**
 * Pretraining a parent model on DJL: the training loop, AdamW, training windows, run directories, logs and plots.
 */
package org.nestlm.train;
