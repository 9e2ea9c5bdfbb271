(self.webpackChunk=self.webpackChunk||[]).push([]);
