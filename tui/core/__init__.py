"""One core under inspection, independent of any UI: the Backend protocol, the CoreSession (dlvs and their lifecycle), the goroutine store, the navigator. No Textual."""
