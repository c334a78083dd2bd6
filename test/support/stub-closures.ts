import { createRequire } from "node:module";

/**
 * Vitest loads modules through its own transform, whose wrappers Pulumi's closure serializer
 * cannot serialize. Under mocks the provider text is never run, so serialization is stubbed;
 * real serialization is exercised by the integration tests on the engine.
 */
export function stubDynamicProviderSerialization(): void {
  const closure = createRequire(require.resolve("@pulumi/pulumi"))("./runtime/closure/serializeClosure") as {
    serializeFunction: (...args: unknown[]) => Promise<{ text: string; containsSecrets: boolean }>;
  };
  closure.serializeFunction = async () => ({ text: "exports.handler = () => ({});", containsSecrets: false });
}
