// Package entry: asc resolves `import ... from "@wshost/sdk"` to this file.
export * from "./assembly/index";
