/**
 * The provider double's plugin process: `provider.ts <package> <version> <engine address…>`, started
 * by the launcher install.ts writes into a plugin directory. Stdout carries only the port the SDK's
 * provider server prints (the engine reads it as the plugin's handshake); diagnostics go to stderr.
 */
import * as provider from "@pulumi/pulumi/provider";
import { interceptProviderConfig } from "./config-rpc";
import { ProviderDouble } from "./double";
import { STATE_ENV } from "./state";

function fail(message: string): never {
  process.stderr.write(`provider double: ${message}\n`);
  process.exit(2);
}

const [pkg, version, ...engineArgs] = process.argv.slice(2);
if (!pkg || !version) fail("usage: provider.ts <package> <version> <engine address>");
const stateFile = process.env[STATE_ENV];
if (!stateFile) fail(`${STATE_ENV} is not set: where should the double keep what it creates?`);

const double = new ProviderDouble({ pkg, version, stateFile, env: process.env });
interceptProviderConfig(double.configHooks());
provider.main(double, engineArgs).catch((e: unknown) => fail(`could not start: ${String(e)}`));
