interface CloudflareBindings {}
