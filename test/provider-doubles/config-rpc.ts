/**
 * Provider configuration for the doubles. The Node SDK's provider server answers CheckConfig and
 * DiffConfig with UNIMPLEMENTED and Configure by itself, so an implementation never sees its
 * configuration, and the engine then (a) keeps sensitive config such as the GitHub token in
 * plaintext, showing it in every diff, and (b) takes "unknown" for DiffConfig as a change, so an
 * explicit provider shows as updated on every `up`. A real provider checks, marks and diffs its
 * configuration, so the doubles wrap those three handlers where the server registers them.
 */
import * as path from "node:path";
import type * as StructModule from "google-protobuf/google/protobuf/struct_pb";
import { ResourceProviderService } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import type { CheckFailure } from "./check";
import { asWireMap, type WireMap } from "./wire";

type Callback<T> = (error: Error | null, response?: T) => void;
type Unary<Req, Res> = (call: { request: Req }, callback: Callback<Res>) => void;

interface ProviderServerImpl {
  checkConfig: Unary<provproto.CheckRequest, provproto.CheckResponse>;
  diffConfig: Unary<provproto.DiffRequest, provproto.DiffResponse>;
  configure: Unary<provproto.ConfigureRequest, provproto.ConfigureResponse>;
}

/** Only what this module touches of @grpc/grpc-js (a dependency of the SDK, not of this project). */
interface GrpcModule {
  Server: { prototype: { addService(this: unknown, service: object, implementation: object): void } };
}

export interface ConfigHooks {
  /** The provider's configuration (inputs of `pulumi:providers:<pkg>`) as checked, and its failures. */
  checkConfig(news: WireMap): { inputs: WireMap; failures: CheckFailure[] };
  /** Whether the configuration changed. */
  diffConfig(olds: WireMap, news: WireMap): boolean;
  /** The configuration the provider runs with from now on. */
  configure(config: WireMap): void;
}

/** The SDK's own copy of a dependency (the instance its server uses), not whatever this project resolves. */
function sdkRequire<T>(id: string): T {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve(id, { paths: [sdkDir] })) as T;
}

/** Call before `provider.main`: the server registers its handlers when main starts it. */
export function interceptProviderConfig(hooks: ConfigHooks): void {
  const grpc = sdkRequire<GrpcModule>("@grpc/grpc-js");
  const { Struct } = sdkRequire<typeof StructModule>("google-protobuf/google/protobuf/struct_pb");
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    if (service !== ResourceProviderService) return addService.call(this, service, implementation);
    const server = implementation as ProviderServerImpl;
    // Everything else still goes to the SDK's server (methods resolve through the prototype).
    const wrapped = Object.create(server) as ProviderServerImpl;
    wrapped.checkConfig = (call, callback) =>
      answer(callback, () => {
        const { inputs, failures } = hooks.checkConfig(asWireMap(call.request.getNews()?.toJavaScript()));
        const resp = new provproto.CheckResponse();
        resp.setInputs(Struct.fromJavaScript(inputs));
        resp.setFailuresList(
          failures.map((f) => {
            const failure = new provproto.CheckFailure();
            failure.setProperty(f.property);
            failure.setReason(f.reason);
            return failure;
          }),
        );
        return resp;
      });
    wrapped.diffConfig = (call, callback) =>
      answer(callback, () => {
        const req = call.request;
        const olds = asWireMap((req.getOldInputs() ?? req.getOlds())?.toJavaScript());
        const changed = hooks.diffConfig(olds, asWireMap(req.getNews()?.toJavaScript()));
        const resp = new provproto.DiffResponse();
        resp.setChanges(changed ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
        return resp;
      });
    wrapped.configure = (call, callback) => {
      try {
        hooks.configure(asWireMap(call.request.getArgs()?.toJavaScript()));
      } catch (e) {
        callback(e as Error);
        return;
      }
      server.configure.call(server, call, callback);
    };
    return addService.call(this, service, wrapped);
  };
}

function answer<T>(callback: Callback<T>, respond: () => T): void {
  let resp: T;
  try {
    resp = respond();
  } catch (e) {
    callback(e as Error);
    return;
  }
  callback(null, resp);
}
