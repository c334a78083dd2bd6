import { Command } from "commander";
import { openStack } from "./workspace";

const program = new Command()
  .name("flightdeck")
  .description("Drive Flightdeck's stacks through the Pulumi Automation API.");

program
  .command("up")
  .description("Deploy a stack (the local stack by default) and print its URL.")
  .option("-s, --stack <stack>", "stack name", "local")
  .action(async (opts: { stack: string }) => {
    const stack = await openStack(opts.stack);
    const result = await stack.up({ onOutput: (s) => process.stdout.write(s) });
    const url = result.outputs.url?.value;
    console.log(`\n${opts.stack} is up${url ? `: ${String(url)}` : ""}`);
  });

program
  .command("down")
  .description("Destroy a stack's resources (stops local processes).")
  .option("-s, --stack <stack>", "stack name", "local")
  .action(async (opts: { stack: string }) => {
    const stack = await openStack(opts.stack);
    await stack.destroy({ onOutput: (s) => process.stdout.write(s) });
    console.log(`\n${opts.stack} is down: nothing of it is running.`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`\nflightdeck: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
