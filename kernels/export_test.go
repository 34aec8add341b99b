package kernels

// SetImpl exposes setImpl to the external tests.
var SetImpl = setImpl
