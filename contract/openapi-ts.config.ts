import { defineConfig } from '@hey-api/openapi-ts';

// The frontend's set-up: the fetch client and the SDK, from the committed schema.
export default defineConfig({
  input: '../openapi.yaml',
  output: 'generated',
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
});
