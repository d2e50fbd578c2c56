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
    // gRPC-Web and Connect for browsers and curl (README "Browsers and curl"): the same services,
    // auth and limits as the gRPC port. Pages of the listed origins may call it.
    web: {
      enabled: true,
      port: 8080,
      cors: { allowedOrigins: ['http://localhost:5173', 'http://127.0.0.1:5173'] },
    },
    autoRegisterApps: true,
    enabledApps: ['crypto'],
    proto: {
      autoGenerate: true,
      protoDir: 'proto',
      outputDir: 'generated',
      // Also generated/es/: ECMAScript clients for browsers (@connectrpc/connect-web).
      es: true,
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
