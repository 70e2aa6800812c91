// The CLI's entry point, bundled with oclif itself so that start-up reads one file, not hundreds.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
