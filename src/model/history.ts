/** What fit returns and callbacks receive, in Keras's shape. */

export interface EpochLogs {
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Wall time of the epoch, validation included, in seconds. */
  seconds: number;
  /** Learning rate at the end of the epoch. */
  lr: number;
}

export interface BatchLogs {
  /** Steps done in this epoch, and steps in the epoch. */
  step: number;
  steps: number;
  /** Mean loss and accuracy over this epoch's samples so far. */
  loss: number;
  accuracy: number;
  samples: number;
}

export interface Callback {
  onTrainBegin?(info: { epochs: number; stepsPerEpoch: number; trainSamples: number; validationSamples: number }): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** Called every `progressEvery` steps (and at the end of each epoch) with running metrics. */
  onBatchEnd?(epoch: number, logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: EpochLogs): void | Promise<void>;
  onTrainEnd?(history: History): void | Promise<void>;
}

export class History {
  /** Epoch numbers (0-based), one per completed epoch. */
  readonly epoch: number[] = [];
  /** loss, accuracy, val_loss, val_accuracy, seconds, lr: one value per epoch. */
  readonly history: Record<string, number[]> = {};

  record(epoch: number, logs: EpochLogs): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) {
      if (value === undefined) continue;
      (this.history[key] ??= []).push(value);
    }
  }

  /** The epoch with the lowest value of `metric` (default val_loss, else loss). */
  best(metric?: string): { epoch: number; value: number } | undefined {
    const key = metric ?? (this.history.val_loss ? 'val_loss' : 'loss');
    const values = this.history[key];
    if (!values?.length) return undefined;
    const lowerIsBetter = key.includes('loss');
    let best = 0;
    values.forEach((v, i) => {
      if (lowerIsBetter ? v < values[best]! : v > values[best]!) best = i;
    });
    return { epoch: this.epoch[best]!, value: values[best]! };
  }

  toJSON(): { epoch: number[]; history: Record<string, number[]> } {
    return { epoch: this.epoch, history: this.history };
  }
}

/** Thrown by fit when a batch's loss is NaN or infinite; the model keeps the weights from before that step. */
export class TrainingDivergedError extends Error {
  constructor(readonly epoch: number, readonly step: number, readonly iteration: number) {
    super(
      `Training diverged: the loss of epoch ${epoch + 1}, step ${step + 1} was not finite (NaN or infinite). ` +
        `Updates stopped there and the model keeps the weights from before that step. ` +
        `Lower the learning rate, check the input scaling, or use a loss on logits.`,
    );
    this.name = 'TrainingDivergedError';
  }
}

/** Where an epoch stands after some of its steps: enough to finish it as an unbroken run would. */
export interface EpochProgress {
  /** The epoch (0-based) and the steps of it done. */
  epoch: number;
  step: number;
  /** The epoch's sums so far (the StepState's f32 loss sum, bit for bit). */
  lossSum: number;
  correct: number;
  seen: number;
  /** Seconds spent on it so far. */
  seconds: number;
}

/**
 * fit stopped between two steps because `model.interrupt()` was called. The
 * model holds the weights after `progress.step` steps of `progress.epoch`;
 * fit with `initialEpoch: progress.epoch, initialProgress: progress` finishes
 * the epoch exactly as an unbroken run.
 */
export class TrainingInterruptedError extends Error {
  constructor(readonly progress: EpochProgress) {
    super(`Training was interrupted after step ${progress.step} of epoch ${progress.epoch + 1}.`);
    this.name = 'TrainingInterruptedError';
  }
}
