// How many rows k-means fits its centroids on. faiss's rule by default (ClusteringParameters
// .max_points_per_centroid = 256, faiss/Clustering.h): with more than 256 x k rows, the centroids are fitted on
// a random sample of 256 x k rows, then every row gets its nearest centroid. At or below that, all rows.

/** 'auto': faiss's rule (256 rows a centroid); 'all': every row; N: N random rows (at least k). */
export type FitSample = 'auto' | 'all' | number;

/** faiss ClusteringParameters.max_points_per_centroid. */
export const MAX_POINTS_PER_CENTROID = 256;

/** Validates a fitSample value; a saved config's 0 (the old spelling of 'all') reads as 'all'. */
export function resolveFitSample(value: unknown, name = 'fitSample'): FitSample {
  if (value === 'auto' || value === 'all') return value;
  if (value === 0) return 'all';
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new Error(`\`${name}\` must be "auto" (fit on 256 x codebookSize random rows when there are more), "all" or an integer >= 1 (rows), got ${JSON.stringify(value)}`);
}

/** Rows the centroids are fitted on, for `rows` rows and k centroids: `rows` means all of them (no sampling). */
export function fitRowCount(fitSample: FitSample, rows: number, k: number): number {
  if (fitSample === 'all') return rows;
  const cap = fitSample === 'auto' ? MAX_POINTS_PER_CENTROID * k : Math.max(fitSample, k);
  return Math.min(rows, cap);
}
