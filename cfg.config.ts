import { defineConfig } from './src/index.ts';

// The counterpart of Django-CFG's api/config.py. Every field is optional; docs/configuration.md
// lists them with their defaults. Environment variables override what a deployment changes.
export default defineConfig({
  grpc: {
    enabled: true,
    server: {
      host: '[::]',
      port: 50051,
      maxWorkers: 10,
      enableReflection: true,
      enableHealthCheck: true,
    },
    autoRegisterApps: true,
    enabledApps: ['crypto'],
    proto: {
      autoGenerate: true,
      protoDir: 'proto',
      outputDir: 'generated',
    },
    auth: {
      enabled: true,
      requireAuth: false,
      jwtAlgorithm: 'HS256',
    },
  },
  logging: {
    levels: { 'grpc.discovery': 'info', 'apps.crypto': 'info' },
  },
});
