import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { finishDocument, openApiInfo } from '../openapi-document.js';

/*
 * Swagger UI as Signet's own page: Signet's name in the title and the top bar
 * instead of Fastify's logo, and no "Explore" box (it invites pasting another
 * document's URL into a page that holds the caller's API key).
 */
const LOGO_SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="132" height="40" viewBox="0 0 132 40" role="img" aria-label="Signet">' +
    '<text x="2" y="29" font-family="Helvetica, Arial, sans-serif" font-size="27" font-weight="700" fill="#ffffff">Signet</text></svg>',
);
const THEME_CSS = '.swagger-ui .topbar .download-url-wrapper { display: none !important; }';

/** The OpenAPI 3.1 document generated from the route schemas, served as `/openapi.json` and browsable at `/docs`. */
export const openApi = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: openApiInfo,
      transform: jsonSchemaTransform,
      transformObject: (input) => finishDocument(jsonSchemaTransformObject(input)),
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
      logo: { type: 'image/svg+xml', content: LOGO_SVG, href: '/docs', target: '_self' },
      theme: { title: 'Signet API', css: [{ filename: 'signet.css', content: THEME_CSS }] },
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    // Whoever opens the service's address in a browser lands on its documentation.
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs', 302));
  },
  { name: 'openapi' },
);
