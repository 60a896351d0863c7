"""Words of the import lock (issue #25): a second import waits for the first."""

TEXT = {
    "imp_waiting_other": {
        "zh": "正在等待另一个导入完成……",
        "en": "Waiting for another import to finish …",
    },
}
