// Public surface of pipelines/data: the canonical data set (Parquet + manifest), embeddings files,
// generic Parquet helpers, the leave-one-out split, the synthetic generator and the importers.
export type { Items, Sequences, Manifest, Dataset, Example, SplitName } from './types.js';
export {
  readParquetTable, writeParquetTable, parquetToTable, tableToParquet, makeTable, hasColumn,
  int32Vector, float32Vector, float64Vector, utf8Vector, int32ListVector, float64ListVector, utf8ListVector, fixedSizeListVector,
  readInt32Column, readFloat64Column, readUtf8Column, readInt32ListColumn, readFloat64ListColumn, readUtf8ListColumn,
  readFixedSizeListColumn,
} from './parquet.js';
export type { ParquetCompression, WriteParquetOptions, ReadParquetOptions } from './parquet.js';
export {
  readDataset, readCatalog, writeDataset, readManifest, SEQUENCES_ROW_GROUP, validateDataset, checkDatasetOutput, DATASET_RULE,
  DATASET_VERSION, ITEMS_FILE, SEQUENCES_FILE, MANIFEST_FILE, EMBEDDINGS_DIR,
} from './dataset.js';
export type { DatasetContent, DatasetCatalog } from './dataset.js';
export { ParquetStreamWriter, ParquetRowGroups, STREAM_ROW_GROUP } from './parquetStream.js';
export { readUserChunks, datasetUserCount, readUserDomains, readUserKeys } from './userStream.js';
export type { UserChunk, UserStreamOptions } from './userStream.js';
export { readEmbeddings, writeEmbeddings, readEmbeddingsMeta, embeddingsPath } from './embeddings.js';
export { domainIndex, domainId, contextDomain, checkDomainName, DOMAIN_NAME, DOMAIN_SEPARATOR } from './domains.js';
export type { DomainIndex } from './domains.js';
export { mergeDatasets, parseDomainFlag } from './merge.js';
export type { DomainInput, MergeOptions, MergeResult, DomainCounts } from './merge.js';
export { leaveOneOut, lazyExamples, trainExamples, trainingSequences, shortUsers, examplesPerUser, DEFAULT_MAX_HISTORY, MIN_LENGTH } from './split.js';
export type { SplitOptions, ShortUsers, LazyExampleOptions } from './split.js';
export { DEFAULT_TEXT_TEMPLATE, compileTextTemplate, fieldText } from './text.js';
export type { TextTemplate } from './text.js';
export { importDataset, IMPORT_FORMATS, InputIssues, parseJsonOrPython, parseCsv, CsvParser, readLines, readTextChunks, withEngine, resolveEngine } from './import/index.js';
export type { ImportFormat, ImportOptions, ImportResult, ReadResult, ItemRecord, EngineConfig } from './import/index.js';
export { generateData, generateDataset, resolveGenerateConfig, DEFAULT_GENERATE, DEFAULT_GENERATED_DIR } from './generate.js';
export type { GenerateConfig, GeneratedData } from './generate.js';
export { datasetInfo, datasetStats } from './info.js';
export type { DatasetStats } from './info.js';
