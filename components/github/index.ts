export * from "./delivery-environments";
export * from "./merge-settings";
export * from "./trunk-protection";
