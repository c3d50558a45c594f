import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The console is a static SPA served by Firebase Hosting from console/dist.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // Hosting's CSP forbids inline script: keep every asset a file.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
