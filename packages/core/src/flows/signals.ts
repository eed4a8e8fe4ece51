/** Why an attempt's signal fired; the reason decides what happens to the run. */
export class StopReason extends Error {
  readonly kind: 'cancelled' | 'attempt_timeout' | 'run_timeout' | 'lease_lost' | 'drain';
  constructor(kind: StopReason['kind'], message: string) {
    super(message);
    this.name = 'StopReason';
    this.kind = kind;
  }
}

/** Hooks for metrics; the server wires them to the catalog's flow metrics. */
export interface FlowObserver {
  runFinished?(flowId: string, status: string): void;
  stepFinished?(flowId: string, seconds: number): void;
  attemptStarted?(backend: string, enqueueToStartSeconds: number): void;
}
