import { environmentError } from '../../cli/errors.js';
import type { OpenedCluster, SourceOptions } from '../cluster.js';

export function openLiveCluster(_options: SourceOptions): Promise<OpenedCluster> {
  return Promise.reject(
    environmentError('reading a live cluster is not available in this build', 'live-unavailable', ['Use --snapshot PATH.']),
  );
}
