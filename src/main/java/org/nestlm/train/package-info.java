/**
 * Training on DJL: the one training-run loop (resume, checkpoints, validation, log, progress) that pretraining,
 * elastic distillation and the baselines share, pretraining itself, AdamW, training windows, run directories, logs
 * and plots.
 */
package org.nestlm.train;
