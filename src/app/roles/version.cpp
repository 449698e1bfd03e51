namespace ivs::app {
const char* version() {
  return IVS_VERSION;
}
}  // namespace ivs::app
