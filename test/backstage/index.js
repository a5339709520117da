// A real Backstage backend with only the catalog and kubernetes plugins, as a Backstage
// app adds them. backstage_test.go writes the app-config and starts it with
// `node index.js --config <app-config.yaml>`; the backend reads --config itself.
'use strict';

const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require('@backstage/plugin-kubernetes-backend'));
backend.start();
