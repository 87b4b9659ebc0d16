// placeholder: filled in by the kernel work for issue 2
export {};
