"""Reference: a FastAPI hello-world under uvicorn (the stack peers such as freqtrade use)."""

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/v1/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error", access_log=False)
