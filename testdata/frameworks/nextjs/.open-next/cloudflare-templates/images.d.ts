export declare function handleImageRequest(url: URL): Promise<Response>;
