// The fixture several pipeline tests share: a generated data set (120 users, 60 items) embedded and tokenized
// (2 levels x 8 codes) by the pipeline's own stages, in a temporary directory, with progress output quiet.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePipelineConfig } from '../../pipelines/runConfig.js';
import { runPipeline } from '../../pipelines/stages.js';

export interface TokenizedData {
  /** The temporary directory (free for the test's own outputs). */
  dir: string;
  /** Data set directory (with embeddings). */
  data: string;
  /** Tokenizer directory. */
  tokenizer: string;
  /** Removes the directory and restores progress output. */
  remove(): Promise<void>;
}

export async function tokenizedData(name: string, seed: number): Promise<TokenizedData> {
  process.env.SEMID_QUIET = '1';
  const dir = await mkdtemp(join(tmpdir(), `semid-${name.replace(/\W+/g, '-')}-`));
  const config = resolvePipelineConfig({
    name,
    data: { source: 'generate', generate: { users: 120, items: 60, seed } },
    embed: { dim: 16 },
    tokenize: { levels: 2, codebookSize: 8, dedupSize: 40 },
  });
  await runPipeline({ config, runDir: join(dir, 'run'), until: 'tokenize', report: false, log: () => undefined });
  return {
    dir, data: join(dir, 'run', 'embed'), tokenizer: join(dir, 'run', 'tokenize'),
    remove: async () => {
      delete process.env.SEMID_QUIET;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
