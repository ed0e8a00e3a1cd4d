import { defineConfig } from "vite";

// No React plugin: esbuild compiles the JSX (tsconfig "jsx": "react-jsx"), which
// is all a production build needs, and keeps the install small.
export default defineConfig({
  base: "./",
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 2048 },
  server: {
    // `npm run dev` beside `careledger ipfs serve --allow-origin http://127.0.0.1:5173`
    host: "127.0.0.1",
  },
  test: {
    include: ["tests/unit/**/*.test.ts"],
    environment: "node",
  },
});
