// Pipeline config validation: defaults, relative paths, and errors that name the field and the value.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PIPELINE_CONFIG, PUBLISHED_RESULTS, loadPipelineConfig, resolvePipelineConfig } from '../../pipelines/runConfig.js';

describe('resolvePipelineConfig', () => {
  it('fills every section with defaults when empty', () => {
    expect(resolvePipelineConfig({})).toEqual(DEFAULT_PIPELINE_CONFIG);
    expect(resolvePipelineConfig(undefined)).toEqual(DEFAULT_PIPELINE_CONFIG);
  });

  it('keeps given fields and defaults the rest of a section', () => {
    const c = resolvePipelineConfig({ train: { preset: 'tiny', trainer: { steps: 300 } }, eval: { k: [1, 10] } });
    expect(c.train).toEqual({ preset: 'tiny', arch: 'encdec', model: {}, trainer: { steps: 300 }, validUsers: 500, validBeam: 20, finetune: { steps: 0, trainer: {} } });
    expect(c.eval).toEqual({ ...DEFAULT_PIPELINE_CONFIG.eval, k: [1, 10] });
    expect(c.tokenize).toEqual(DEFAULT_PIPELINE_CONFIG.tokenize);
  });

  it('resolves relative paths against the config directory', () => {
    const c = resolvePipelineConfig(
      { data: { source: 'import', format: 's3rec', files: { sequences: 'data/Beauty.txt', items: '/abs/items.jsonl' } } },
      '/configs',
    );
    expect(c.data.files).toEqual({ sequences: '/configs/data/Beauty.txt', items: '/abs/items.jsonl' });
  });

  it('uses built-in published numbers for a known data set', () => {
    expect(resolvePipelineConfig({ report: { dataset: 'amazon-beauty' } }).report.published).toBe(PUBLISHED_RESULTS['amazon-beauty']);
    expect(resolvePipelineConfig({ report: { dataset: 'mine' } }).report.published).toBeUndefined();
  });

  const bad: [string, unknown, RegExp][] = [
    ['unknown top-level key', { trian: {} }, /unknown key `trian`/],
    ['unknown section key', { train: { lrate: 1 } }, /unknown key `train.lrate` \(known keys of `train`: preset, arch, model, trainer, validUsers, validBeam, finetune\)/],
    ['unknown nested key', { data: { generate: { user: 5 } } }, /unknown key `data.generate.user`/],
    ['bad enum', { train: { preset: 'huge' } }, /`train.preset` must be one of tiny, small, causal, sasrec, tiger, got "huge"/],
    ['non-integer', { tokenize: { levels: 2.5 } }, /`tokenize.levels` must be an integer >= 1, got 2.5/],
    ['too small', { tokenize: { codebookSize: 1 } }, /`tokenize.codebookSize` must be an integer >= 2, got 1/],
    ['wrong type', { embed: { dim: '256' } }, /`embed.dim` must be an integer >= 1, got "256"/],
    ['section not an object', { eval: [] }, /`eval` must be an object, got \[\]/],
    ['bad list entry', { eval: { k: [5, 0] } }, /`eval.k\[1\]` must be an integer >= 1, got 0/],
    ['beam below k', { eval: { k: [5, 50], beam: 20 } }, /`eval.beam` must be >= the largest `eval.k` \(50\), got 20/],
    ['import without format', { data: { source: 'import', files: { sequences: 'x' } } }, /`data.format` must be set/],
    ['import without files', { data: { source: 'import', format: 's3rec' } }, /`data.files` must be a non-empty object/],
    ['bad format', { data: { source: 'import', format: 'xml', files: { sequences: 'b' } } }, /`data.format` must be one of s3rec, inter-json/],
    ['files without import', { data: { files: { sequences: 'b' } } }, /apply only when `data.source` is "import"/],
    ['path source without path', { data: { source: 'path' } }, /`data.path` must be a data set directory/],
    ['fixed without from', { tokenize: { method: 'fixed' } }, /`tokenize.from` must be a semantic-ID file/],
    ['embed import without from', { embed: { source: 'import' } }, /`embed.from` must be a vector file/],
    ['bad boolean', { recommend: { excludeHistory: 'yes' } }, /`recommend.excludeHistory` must be true or false, got "yes"/],
    ['bad users', { recommend: { users: -3 } }, /`recommend.users` must be an integer >= 1, got -3/],
    ['empty path string', { data: { source: 'path', path: '' } }, /`data.path` must be a non-empty string, got ""/],
    ['bad published metric', { report: { published: [{ method: 'X', metrics: { 'recall@10': 'high' } }] } }, /`report.published\[0\].metrics.recall@10` must be a number, got "high"/],
    ['unknown import file flag', { data: { source: 'import', format: 's3rec', files: { sequence: 'x' } } }, /unknown key `data.files.sequence` \(known keys of `data.files`: sequences, interactions/],
    ['unknown import option', { data: { source: 'import', format: 's3rec', files: { sequences: 'x' }, options: { kcore: 5 } } }, /unknown key `data.options.kcore`/],
    ['not an object at all', 42, /the config must be a JSON object, got 42/],
  ];
  it.each(bad)('rejects %s, naming the field and value', (_, input, message) => {
    expect(() => resolvePipelineConfig(input)).toThrow(message);
  });
});

describe('example configs (pipelines/configs)', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pipelines', 'configs');

  it.each(['generated.json', 'beauty.json', 'scientific.json'])('%s is valid', async (file) => {
    const config = await loadPipelineConfig(join(dir, file));
    expect(config.name.length).toBeGreaterThan(0);
    for (const path of Object.values(config.data.files)) expect(isAbsolute(path)).toBe(true);
  });

  it('Beauty follows TIGER: RQ-VAE 3 x 256, the tiger preset, published numbers attached', async () => {
    const config = await loadPipelineConfig(join(dir, 'beauty.json'));
    expect(config.tokenize).toMatchObject({ method: 'rqvae', levels: 3, codebookSize: 256 });
    expect(config.train.preset).toBe('tiger');
    expect(config.report.published!.map((p) => p.method)).toEqual(['SASRec', 'S3-Rec', 'TIGER']);
    expect(config.data.files.sequences.endsWith('beauty/Beauty.txt')).toBe(true);
  });

  it('names the file and the field of a bad config', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'semid-cfg-'));
    try {
      await writeFile(join(tmp, 'bad.json'), JSON.stringify({ train: { preset: 'huge' } }));
      await expect(loadPipelineConfig(join(tmp, 'bad.json'))).rejects.toThrow(/bad\.json": `train.preset` must be one of tiny, small, causal, sasrec, tiger, got "huge"/);
      await writeFile(join(tmp, 'broken.json'), '{ "train": ');
      await expect(loadPipelineConfig(join(tmp, 'broken.json'))).rejects.toThrow(/broken\.json" is not valid JSON/);
      await expect(loadPipelineConfig(join(tmp, 'missing.json'))).rejects.toThrow(/cannot read config ".*missing\.json": ENOENT/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
