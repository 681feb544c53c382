from flows.serve import serve as serve
