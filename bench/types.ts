// The shapes every benchmark suite shares: what a suite measures (figures), how it is run (variants,
// each in its own child process), and how the PyTorch reference's records become comparable figures.

/** min / median / max of repeated measurements (seconds, or whatever `unit` the figure states). */
export interface Summary {
  min: number;
  median: number;
  max: number;
  n: number;
}

/** One measured number. Figures with the same `key` in semid and in the reference are compared. */
export interface Figure {
  /** Stable id, e.g. `train.tiger.seqPerSec`. */
  key: string;
  /** What it is, for the table: "training tiger, batch 256". */
  label: string;
  /** The headline value (a median, or a single timing where the figure says so). */
  value: number;
  unit: string;
  /** Throughputs: true. Times and sizes: false. Decides the direction of the reference ratio. */
  higherIsBetter: boolean;
  /** The repeated timings the value comes from (per step, per batch, per fit), when repeated. */
  samples?: Summary;
  /** Anything else worth keeping (counts, shapes, per-run lists). */
  detail?: Record<string, unknown>;
}

/** Sizes of a run: the full benchmark, or a tiny one that exercises the same code in seconds (`--quick`). */
export interface SuiteOptions {
  quick: boolean;
  /** Where /work/shared/data-style public data sets live (beauty/, scientific/); null = none. */
  dataDir: string | null;
  /** Scratch directory for this variant (deleted afterwards). */
  workDir: string;
  /** The part to run (see Suite.parts); absent = all of them. */
  part?: string;
  /** Scratch directory shared by the parts of one suite run (inputs prepared once), deleted afterwards. */
  cacheDir?: string;
}

/** What a suite reports from one variant (one backend / thread setting), in one child process. */
export interface VariantOutput {
  figures: Figure[];
  /** Things measured but not figures (skipped parts and why, shapes, configs). */
  notes: string[];
  detail?: Record<string, unknown>;
}

/** A way to run a suite: a backend choice, expressed as environment variables of the child process. */
export interface Variant {
  id: string;
  /** Shown in the table: "wasm, 2 threads". */
  label: string;
  env: Record<string, string>;
  /** Fewer repetitions (a software GPU adapter: correct, but far slower than wasm). */
  reduced?: boolean;
}

/** A PyTorch reference script: its file name in the reference folder, and how it hands back its JSON-lines records. */
export interface ReferenceScript {
  file: string;
  /** `out-file`: `--out FILE` is appended to the arguments (tiger_ref.py). `stdout`: one record a line on standard output (sasrec_ref.py). */
  records: 'out-file' | 'stdout';
}

/** One invocation of a PyTorch reference script, and how its JSON records become figures. */
export interface ReferenceRun {
  /** Arguments after the script (without --out). */
  args: string[];
  /** `timing`: when each record arrived and the script's CPU seconds then (`stdout` records only; else null). */
  figures(records: ReferenceRecord[], timing: ReferenceTiming): Figure[];
}

export interface ReferenceTiming {
  /** Seconds from the start until record i's line arrived. */
  arrivalSeconds: number[] | null;
  /** CPU seconds the script had used when record i arrived (null where /proc could not say). */
  cpuSeconds: (number | null)[] | null;
}

/** What a suite's reference runs may depend on. */
export interface ReferenceOptions {
  quick: boolean;
  dataDir: string | null;
  /** The thread count of the suite's default variant (wasm: its pool size; null when the backend does not say). */
  threads: number | null;
  /** Scratch directory for the references' inputs (deleted after the suite). */
  workDir: string;
}

/** A JSON line of a reference script (the fields used here; the whole record is kept in the result file). */
export type ReferenceRecord = Record<string, unknown> & { bench?: string };

export interface Suite {
  name: string;
  /** One line for `semid bench --help` and BENCHMARKS.md. */
  describe: string;
  /** Whether the suite's figures depend on the tfjs backend (then it runs once per backend variant). */
  usesBackend: boolean;
  /** Whether to also run the wasm threads variant (SEMID_WASM_THREADS=2). */
  threadsVariant: boolean;
  /** Whether to also run the webgpu backend when an adapter is present. */
  webgpuVariant: boolean;
  /**
   * Independent parts (e.g. presets), each run in its own child process so that their peak memory does
   * not mix and a crash in one keeps the others' figures. Absent or empty: the suite runs in one child.
   */
  parts?(options: { quick: boolean }, variant: Variant): string[];
  run(options: SuiteOptions, variant: Variant): Promise<VariantOutput>;
  /**
   * The reference runs to compare against (full runs; --quick only with --with-reference). An empty list: none for
   * these options (e.g. the reference's data is absent; the suite's own notes say so).
   */
  reference?(options: ReferenceOptions): ReferenceRun[] | Promise<ReferenceRun[]>;
  /** The script reference() runs (default TIGER_REFERENCE, tiger_ref.py). */
  referenceScript?: ReferenceScript;
}
