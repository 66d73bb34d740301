import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { BuildInfo } from '../build-info.js';
import { versionSchema } from './schemas.js';

/** `GET /version`: which Signet answers, built from what, on which runtime and backend. Public, like the probes. */
export const versionRoutes: FastifyPluginAsyncZod<{ info: BuildInfo }> = async (app, { info }) => {
  const body = Object.freeze({ ...info });
  app.get(
    '/version',
    {
      schema: {
        operationId: 'getVersion',
        tags: ['health'],
        summary: 'Version and build information',
        description: 'The version and git revision of this build, the Node.js version it runs on, and the Carbon Black backend it asks.',
        response: { 200: versionSchema },
      },
    },
    async () => body,
  );
};
