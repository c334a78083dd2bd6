import { program } from "./program";

// The engine's entry point (Pulumi.yaml `main`). The driver runs the same function in a program
// host it keeps warm (stacks/program-host.ts); `pulumi up` from a shell runs it here.
export = program();
