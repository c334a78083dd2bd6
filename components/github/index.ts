export * from "./delivery-environments";
export * from "./trunk-protection";
